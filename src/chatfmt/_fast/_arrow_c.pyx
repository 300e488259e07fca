# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The Arrow kernel: a column of conversations (Arrow buffers, UTF-8) to a column of prompts (UTF-8).

It renders from the same resolved `Plan` as the string builders (`_render_c`, `_render_py`), so a
format's semantics live in one place, but it reads roles and contents straight from Arrow buffers and
writes one output buffer, without a Python object per row and with the GIL released.

It covers the system policies TURN and LEAD and the transforms NONE, TRIM and AFTER_THINK. Anything
else it cannot vouch for, per row (an empty conversation, a null or missing content, a declined key,
a role the format declines or rejects, a conversation the template would raise on, any other
transform), or per format (the other system policies, a REJECT of a system message that is present,
think blocks, a default for an empty system message, declined system texts; dynamic formats never
reach it), is handed back to the caller, which renders that row with `Template.render`: the same
result, only slower.

Two passes: measure (status and byte length of every row), then, once the caller has rendered the rows
handed back and the output is allocated, copy.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uintptr_t
from libc.string cimport memcpy, memcmp
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_RawFree, PyMem_RawRealloc

from . import _plan
from ._codes cimport *
from ._plan import Plan

cdef extern from "Python.h":
    bint Py_UNICODE_ISSPACE(Py_UCS4) nogil

__all__ = ["ArrowKernel"]

# Row status after measuring: rendered by the kernel, or handed back (and why: the caller re-derives
# the reason from the row, so that the kernel and the per-row path report the same one).
cdef enum:
    S_OK = 0
    S_FALLBACK = 1
    S_NULL_CONVERSATION = 2
    S_NULL_MESSAGE = 3
    S_NULL_ROLE = 4

check_codes("chatfmt._fast._arrow_c", _plan)


cdef const char* _EMPTY = b""


cdef struct Text:
    const char* p
    Py_ssize_t n


cdef struct KTurn:
    int kind
    int transform
    bint interp
    bint grouped
    bint is_user
    bint is_system
    bint skip_empty
    bint generated
    Py_ssize_t end_len  # the end-of-turn marker's length at the start of tail (a generation span ends after it)
    Py_ssize_t last_end[2]  # the same for the last message's tail [without, with] the generation prompt
    Text role  # n = -1 for the generic turn
    Text head
    Text open_head
    Text role_tail
    Text tail
    Text close_tail
    Text last[2]  # the last message's tail [without, with] the generation prompt


# One Arrow array's buffers: validity bitmap (NULL: no nulls), offsets (32 or 64 bit), data.
cdef struct Col:
    const uint8_t* valid
    const char* offsets
    bint wide
    const char* data
    int64_t offset


cdef struct Item:
    KTurn* turn
    Text role
    Text content  # as printed (after the transform)
    Py_ssize_t raw_len  # the content's length before the transform (skip_empty tests it)


# Generation spans of the rows rendered so far: byte offsets into each row's text, appended in order.
cdef struct Spans:
    int64_t* starts
    int64_t* ends
    Py_ssize_t count
    Py_ssize_t cap
    bint failed  # out of memory


cdef void _push_span(Spans* sp, int64_t start, int64_t end) noexcept nogil:
    cdef Py_ssize_t cap
    cdef int64_t* starts
    cdef int64_t* ends
    if sp.count == sp.cap:
        cap = sp.cap * 2 if sp.cap else 1024
        starts = <int64_t*>PyMem_RawRealloc(sp.starts, cap * sizeof(int64_t))
        if starts != NULL:
            sp.starts = starts
        ends = <int64_t*>PyMem_RawRealloc(sp.ends, cap * sizeof(int64_t))
        if ends != NULL:
            sp.ends = ends
        if starts == NULL or ends == NULL:
            sp.failed = True
            return
        sp.cap = cap
    sp.starts[sp.count] = start
    sp.ends[sp.count] = end
    sp.count += 1


cdef void _spans_in_chars(const char* text, Spans* sp, Py_ssize_t first) noexcept nogil:
    """Byte offsets to code-point offsets for spans first..count of one row (ascending, as spans are)."""
    cdef Py_ssize_t k, side, byte = 0, chars = 0
    cdef int64_t* value
    for k in range(first, sp.count):
        for side in range(2):
            value = &sp.starts[k] if side == 0 else &sp.ends[k]
            while byte < value[0]:
                if (<const unsigned char*>text)[byte] & 0xC0 != 0x80:
                    chars += 1
                byte += 1
            value[0] = chars


cdef inline bint _covered_transform(int transform) noexcept nogil:
    return transform == T_NONE or transform == T_TRIM or transform == T_AFTER_THINK


cdef inline bint _valid(const Col* c, int64_t i) noexcept nogil:
    cdef int64_t k
    if c.valid == NULL:
        return True
    k = c.offset + i
    return (c.valid[k >> 3] >> (k & 7)) & 1


cdef inline void _bounds(const Col* c, int64_t i, int64_t* lo, int64_t* hi) noexcept nogil:
    cdef int64_t k = c.offset + i
    if c.wide:
        lo[0] = (<const int64_t*>c.offsets)[k]
        hi[0] = (<const int64_t*>c.offsets)[k + 1]
    else:
        lo[0] = (<const int32_t*>c.offsets)[k]
        hi[0] = (<const int32_t*>c.offsets)[k + 1]


cdef inline Text _str(const Col* c, int64_t i) noexcept nogil:
    cdef int64_t lo, hi
    cdef Text t
    _bounds(c, i, &lo, &hi)
    t.p = c.data + lo
    t.n = hi - lo
    return t


cdef inline bint _same(Text a, Text b) noexcept nogil:
    return a.n == b.n and (a.n == 0 or memcmp(a.p, b.p, a.n) == 0)


cdef inline Py_UCS4 _decode_at(const unsigned char* s, Py_ssize_t* width) noexcept nogil:
    """The code point starting at s (valid UTF-8, as Arrow strings are) and its byte width."""
    cdef unsigned char b = s[0]
    if b < 0x80:
        width[0] = 1
        return b
    if b < 0xE0:
        width[0] = 2
        return ((b & 0x1F) << 6) | (s[1] & 0x3F)
    if b < 0xF0:
        width[0] = 3
        return ((b & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F)
    width[0] = 4
    return ((b & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F)


cdef Text _strip(Text t) noexcept nogil:
    """str.strip() on UTF-8: drops the code points Py_UNICODE_ISSPACE accepts, at both ends."""
    cdef const unsigned char* s = <const unsigned char*>t.p
    cdef Py_ssize_t a = 0, b = t.n, w, start
    while a < b:
        if not Py_UNICODE_ISSPACE(_decode_at(s + a, &w)):
            break
        a += w
    while b > a:
        start = b - 1
        while start > a and (s[start] & 0xC0) == 0x80:
            start -= 1
        if not Py_UNICODE_ISSPACE(_decode_at(s + start, &w)):
            break
        b = start
    t.p = t.p + a
    t.n = b - a
    return t


cdef Text _after_think(Text t) noexcept nogil:
    """content.split('</think>')[-1]: UTF-8 is self-synchronising, so a byte search finds the same place."""
    cdef Py_ssize_t at = t.n - 8
    while at >= 0:
        if memcmp(t.p + at, b"</think>", 8) == 0:
            t.p = t.p + at + 8
            t.n = t.n - at - 8
            return t
        at -= 1
    return t


cdef inline Py_ssize_t _put(char* out, Py_ssize_t pos, Text t) noexcept nogil:
    if t.n > 0:
        if out != NULL:
            memcpy(out + pos, t.p, t.n)
        pos += t.n
    return pos


cdef class ArrowKernel:
    """A `Plan` with every constant as UTF-8, ready to render Arrow rows."""

    cdef list _keep  # the bytes objects the C tables point into
    cdef KTurn* _turns
    cdef Py_ssize_t _nturns
    cdef KTurn _other
    cdef KTurn _system
    cdef bint _usable
    cdef int _policy
    cdef Text _start
    cdef Text _after_system
    cdef Text _gen[2]  # [without, with] the generation prompt
    cdef Text _default_block
    cdef bint _has_default
    cdef Text _loop_prefix
    cdef readonly tuple declined_keys
    cdef bint _alternate

    def __cinit__(self, plan):
        self._turns = NULL

    def __init__(self, plan: Plan):
        self._keep = []
        self._usable = (
            plan.usable
            and plan.system in (SYS_TURN, SYS_LEAD, SYS_REJECT)
            and not plan.query_scan
            and not plan.default_if_empty
            and not plan.declined_system_text
        )
        self._policy = plan.system
        self._start = self._text(plan.start)
        self._after_system = self._text(plan.after_system)
        self._gen[0] = self._text(plan.no_generation_prompt)
        self._gen[1] = self._text(plan.generation_prompt)
        self._has_default = plan.default_block is not None
        self._default_block = self._text(plan.default_block or "")
        self._loop_prefix = self._text(plan.loop_prefix)
        self.declined_keys = tuple(plan.declined_keys)
        if len(self.declined_keys) > MAX_DECLINED:
            raise ValueError(f"at most {MAX_DECLINED} declined keys")
        self._alternate = plan.alternation_error is not None
        self._turns = <KTurn*>PyMem_Malloc(max(1, len(plan.turns)) * sizeof(KTurn))
        if self._turns == NULL:
            raise MemoryError()
        self._nturns = len(plan.turns)
        for i, turn in enumerate(plan.turns):
            self._fill(&self._turns[i], turn)
        self._fill(&self._other, plan.other)
        if plan.system_turn is not None:
            self._fill(&self._system, plan.system_turn)
            if self._system.kind != TURN or not _covered_transform(self._system.transform):
                self._usable = False
        else:
            self._system.kind = DECLINED

    def __dealloc__(self):
        PyMem_Free(self._turns)

    @property
    def usable(self):
        """False when the kernel renders no row of this format (every row goes back to the caller)."""
        return self._usable

    cdef Text _text(self, str s):
        cdef bytes b = s.encode("utf-8")
        cdef Text t
        self._keep.append(b)
        t.p = b
        t.n = len(b)
        return t

    cdef int _fill(self, KTurn* c, object t) except -1:
        c.kind = t.kind
        c.transform = t.transform
        c.interp = t.interp
        c.grouped = t.grouped
        c.is_user = t.is_user
        c.is_system = t.is_system
        c.skip_empty = t.skip_empty
        c.generated = t.generated
        c.end_len = len(t.tail[:t.end_len].encode("utf-8"))
        c.last_end[0] = len(t.last_nogen[:t.last_end_nogen].encode("utf-8"))
        c.last_end[1] = len(t.last_gen[:t.last_end_gen].encode("utf-8"))
        if t.role is None:
            c.role.p = NULL
            c.role.n = -1
        else:
            c.role = self._text(t.role)
        c.head = self._text(t.head)
        c.open_head = self._text(t.open_head)
        c.role_tail = self._text(t.role_tail)
        c.tail = self._text(t.tail)
        c.close_tail = self._text(t.close_tail)
        c.last[0] = self._text(t.last_nogen)
        c.last[1] = self._text(t.last_gen)
        return 0

    cdef inline KTurn* _lookup(self, Text role) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(self._nturns):
            if _same(self._turns[i].role, role):
                return &self._turns[i]
        return &self._other

    cdef int _scan(self, const Col* lists, const Col* structs, const Col* roles, const Col* contents,
                   const Col* declined, int ndeclined, int64_t row, Item* items, Py_ssize_t* count) noexcept nogil:
        """Classify one row's messages into items; a status other than S_OK hands the row back."""
        cdef int64_t lo, hi, j
        cdef Py_ssize_t n, i, first
        cdef int d
        cdef KTurn* turn
        if not _valid(lists, row):
            return S_NULL_CONVERSATION
        _bounds(lists, row, &lo, &hi)
        n = hi - lo
        count[0] = n
        if n == 0:
            return S_FALLBACK  # Template.render raises for an empty conversation
        for i in range(n):
            j = lo + i
            if not _valid(structs, j):
                return S_NULL_MESSAGE
            if not _valid(roles, j):
                return S_NULL_ROLE
            if not _valid(contents, j):
                return S_FALLBACK  # None content: the key is dropped, as transformers does
            for d in range(ndeclined):
                if _valid(&declined[d], j):
                    return S_FALLBACK
            items[i].role = _str(roles, j)
            turn = self._lookup(items[i].role)
            if turn.kind != TURN and turn.kind != SKIPPED:
                return S_FALLBACK  # declined, or rejected: the template raises
            if not _covered_transform(turn.transform):
                return S_FALLBACK
            items[i].turn = turn
            items[i].content = _str(contents, j)
            items[i].raw_len = items[i].content.n
        cdef bint has_system = items[0].turn.is_system
        if has_system and self._policy == SYS_REJECT:
            return S_FALLBACK  # the template raises
        first = 1 if has_system and self._policy == SYS_LEAD else 0
        if self._alternate:
            for i in range(first, n):
                if items[i].turn.is_user != ((i - first) % 2 == 0):
                    return S_FALLBACK  # the template raises
        return S_OK

    cdef Text _transformed(self, int transform, Text t) noexcept nogil:
        if transform == T_TRIM:
            return _strip(t)
        if transform == T_AFTER_THINK:
            return _after_think(t)
        return t

    cdef Py_ssize_t _emit(self, Item* items, Py_ssize_t n, bint agp, char* out, Spans* sp) noexcept nogil:
        """Write (or, with out NULL, measure) one scanned row; returns its byte length. With `sp`, also
        appends the row's generation spans (each generated turn's printed content and end marker)."""
        cdef Py_ssize_t pos = 0, i, first = 0
        cdef KTurn* turn
        cdef KTurn* st = &self._system
        cdef bint has_system = items[0].turn.is_system
        cdef bint any_system = False
        cdef bint opens, closes
        cdef Text piece
        pos = _put(out, pos, self._start)
        if self._policy == SYS_LEAD and has_system:
            first = 1
            pos = _put(out, pos, st.head)
            pos = _put(out, pos, self._transformed(st.transform, items[0].content))
            if n == 1:  # the system message is the last one: its tail ends the prompt
                return _put(out, pos, st.last[agp])
            pos = _put(out, pos, st.tail)
        elif self._policy == SYS_LEAD and self._has_default:
            pos = _put(out, pos, self._default_block)
        elif self._policy == SYS_TURN and self._has_default:
            for i in range(n):
                if items[i].turn.is_system:
                    any_system = True
                    break
            if not any_system:
                pos = _put(out, pos, self._default_block)
        pos = _put(out, pos, self._after_system)
        for i in range(first, n):
            turn = items[i].turn
            if turn.kind == SKIPPED:
                pos = _put(out, pos, turn.head)
                continue
            if turn.skip_empty and items[i].raw_len == 0:
                pos = _put(out, pos, self._loop_prefix)
                continue
            opens = turn.grouped and (i == first or items[i - 1].turn != turn)
            closes = turn.grouped and (i == n - 1 or items[i + 1].turn != turn)
            pos = _put(out, pos, turn.open_head if opens else turn.head)
            if turn.interp:
                pos = _put(out, pos, items[i].role)
                pos = _put(out, pos, turn.role_tail)
            piece = self._transformed(turn.transform, items[i].content)
            if sp != NULL and turn.generated:
                _push_span(sp, pos, pos + piece.n + (turn.last_end[agp] if i == n - 1 else turn.end_len))
            pos = _put(out, pos, piece)
            if i == n - 1:  # the last message's tail ends the prompt
                return _put(out, pos, turn.last[agp])
            pos = _put(out, pos, turn.close_tail if closes else turn.tail)
        return _put(out, pos, self._gen[agp])

    def render(self, chunk, bint add_generation_prompt, fallback, int spans=0):
        """Render one normalised chunk (see `chatfmt.columnar`); returns (offsets, data, validity, nulls,
        handed_back, span_buffers).

        `chunk` is a (large_)list<struct<role, content, ...>> pyarrow array whose role and content are
        (large_)string. `fallback(row)` renders a handed-back row: UTF-8 bytes, or None for a null
        output. The buffers are pyarrow Buffers: int64 offsets, UTF-8 data, and a validity bitmap (None
        when no output is null). `handed_back` lists the rows `fallback` rendered. With `spans` 1 (code
        points) or 2 (UTF-8 bytes), `span_buffers` is (int32 list offsets, int64 starts, int64 ends) of the
        generation spans of the rows the kernel rendered (none for handed-back rows); else None.
        """
        import pyarrow as pa

        cdef int64_t n = len(chunk)
        cdef Col lists, structs, roles, contents
        cdef Col declined[MAX_DECLINED]
        cdef int ndeclined = 0
        values = chunk.values
        role_array = values.field("role")
        content_array = values.field("content")
        _col(chunk, &lists, False)
        _col(values, &structs, False)
        _col(role_array, &roles, True)
        _col(content_array, &contents, True)
        names = [values.type.field(i).name for i in range(values.type.num_fields)]
        for key in self.declined_keys:
            if key in names:
                _col(values.field(key), &declined[ndeclined], False)
                ndeclined += 1

        offsets_buf = pa.allocate_buffer(8 * (n + 1))
        cdef int64_t* offsets = <int64_t*><uintptr_t>offsets_buf.address
        status_buf = bytearray(n)
        cdef uint8_t* status = status_buf
        cdef int64_t widest = _widest(&lists, n)
        cdef Item* items = <Item*>PyMem_Malloc(max(1, widest) * sizeof(Item))
        if items == NULL:
            raise MemoryError()
        cdef int64_t row, total = 0, nulls = 0
        cdef Py_ssize_t count
        cdef bint agp = add_generation_prompt
        cdef bint usable = self._usable
        cdef Spans span_list
        cdef Spans* sp = NULL
        cdef int32_t* span_offsets = NULL
        cdef Py_ssize_t first_span
        span_list.starts = NULL
        span_list.ends = NULL
        span_list.count = 0
        span_list.cap = 0
        span_list.failed = False
        span_buffers = None
        handed_back = {}
        try:
            with nogil:
                for row in range(n):
                    status[row] = self._scan(&lists, &structs, &roles, &contents, declined, ndeclined, row, items, &count) if usable else S_FALLBACK
                    offsets[row + 1] = self._emit(items, count, agp, NULL, NULL) if status[row] == S_OK else 0
            for row in range(n):
                if status[row] != S_OK:
                    text = fallback(row)
                    handed_back[row] = text
                    if text is None:
                        nulls += 1
                    else:
                        offsets[row + 1] = len(<bytes>text)
            offsets[0] = 0
            for row in range(n):
                total += offsets[row + 1]
                offsets[row + 1] = total
            data_buf = pa.allocate_buffer(total)
            out = <char*><uintptr_t>data_buf.address if total else NULL
            if spans:
                span_offsets_buf = pa.allocate_buffer(4 * (n + 1))
                span_offsets = <int32_t*><uintptr_t>span_offsets_buf.address
                span_offsets[0] = 0
                sp = &span_list
            with nogil:
                for row in range(n):
                    if status[row] == S_OK:
                        self._scan(&lists, &structs, &roles, &contents, declined, ndeclined, row, items, &count)
                        first_span = span_list.count
                        self._emit(items, count, agp, out + offsets[row], sp)
                        if spans == 1:
                            _spans_in_chars(out + offsets[row], &span_list, first_span)
                    if spans:
                        span_offsets[row + 1] = span_list.count
            if span_list.failed:
                raise MemoryError()
            if spans:
                starts_buf = pa.py_buffer(bytes((<char*>span_list.starts)[:8 * span_list.count]) if span_list.count else b"")
                ends_buf = pa.py_buffer(bytes((<char*>span_list.ends)[:8 * span_list.count]) if span_list.count else b"")
                span_buffers = (span_offsets_buf, starts_buf, ends_buf)
        finally:
            PyMem_Free(items)
            PyMem_RawFree(span_list.starts)
            PyMem_RawFree(span_list.ends)
        for row, text in handed_back.items():
            if text is not None and len(<bytes>text):
                memcpy(out + offsets[row], <const char*><bytes>text, len(<bytes>text))
        validity = None
        if nulls:
            validity = pa.allocate_buffer((n + 7) // 8)
            _set_validity(<uint8_t*><uintptr_t>validity.address, n, handed_back)
        return offsets_buf, data_buf, validity, nulls, list(handed_back), span_buffers


cdef int64_t _widest(const Col* lists, int64_t n) noexcept nogil:
    """The most messages in one row: the size of the scratch item table."""
    cdef int64_t row, lo, hi, widest = 0
    for row in range(n):
        _bounds(lists, row, &lo, &hi)
        if hi - lo > widest:
            widest = hi - lo
    return widest


cdef int _set_validity(uint8_t* bits, int64_t n, dict handed_back) except -1:
    cdef int64_t row
    for row in range((n + 7) // 8):
        bits[row] = 0xFF
    for row, text in handed_back.items():
        if text is None:
            bits[row >> 3] &= ~(1 << (row & 7))
    return 0


cdef int _col(array, Col* c, bint is_string) except -1:
    """Point c at a pyarrow array's buffers (list, struct or string; 32- or 64-bit offsets)."""
    buffers = array.buffers()
    c.offset = array.offset
    c.valid = NULL if buffers[0] is None or array.null_count == 0 else <const uint8_t*><uintptr_t>buffers[0].address
    c.offsets = NULL
    c.data = NULL
    c.wide = False
    type_id = str(array.type)
    if is_string or type_id.startswith("list") or type_id.startswith("large_list"):
        c.offsets = <const char*><uintptr_t>buffers[1].address
        c.wide = type_id.startswith("large_")
    if is_string:
        c.data = _EMPTY
        if buffers[2] is not None:
            c.data = <const char*><uintptr_t>buffers[2].address
    return 0
