# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled string builder: the C twin of `_render_py` (same names, same results, same declines).

A render makes four passes over a C array of messages: scan (validate, find each role's turn, or
decline), check (raise where the template raises), measure (choose every piece, add up lengths and
the widest code point) and copy (one PyUnicode_New, then memcpy or widening loops). Strings are
seen through `cf_str` views (data, length, kind, widest char) computed once: constants when the
renderer is built, message fields when they are scanned. Message fields are borrowed; the few
strings a render creates (trimmed or JSON-quoted contents, str-subclass copies) are owned by a
scratch list that lives as long as the render.
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF

from . import _plan
from ._codes cimport *
from ._plan import Variants, build_plan, static_variant
from ._reasoning import is_query, past_after_think, reasoning_of, think_block

cdef extern from *:
    """
    #if PY_VERSION_HEX < 0x030C0000
    #define CF_READY(op) (PyUnicode_IS_READY(op) ? 0 : _PyUnicode_Ready((PyObject *)(op)))
    #else
    #define CF_READY(op) 0
    #endif

    /* A view of a ready str: what the measure and copy passes need, read once. */
    typedef struct {
        const void *data;
        Py_ssize_t len;
        int kind;
        Py_UCS4 maxc;  /* PyUnicode_MAX_CHAR_VALUE: 0x7f, 0xff, 0xffff or 0x10ffff */
    } cf_str;

    static CYTHON_INLINE void cf_view(PyObject *s, cf_str *v) {
        v->data = PyUnicode_DATA(s);
        v->len = PyUnicode_GET_LENGTH(s);
        v->kind = PyUnicode_KIND(s);
        v->maxc = PyUnicode_MAX_CHAR_VALUE(s);
    }

    /* Copy s into the output at pos; the output kind is never narrower than s's. */
    static CYTHON_INLINE Py_ssize_t cf_put(void *odata, int okind, Py_ssize_t pos, const cf_str *s) {
        Py_ssize_t n = s->len, k;
        if (n == 0) return pos;
        if (s->kind == okind) {
            memcpy((char *)odata + pos * okind, s->data, (size_t)(n * okind));
        } else if (okind == PyUnicode_2BYTE_KIND) {
            Py_UCS2 *o = (Py_UCS2 *)odata + pos;
            const Py_UCS1 *in = (const Py_UCS1 *)s->data;
            for (k = 0; k < n; k++) o[k] = in[k];
        } else if (s->kind == PyUnicode_1BYTE_KIND) {
            Py_UCS4 *o = (Py_UCS4 *)odata + pos;
            const Py_UCS1 *in = (const Py_UCS1 *)s->data;
            for (k = 0; k < n; k++) o[k] = in[k];
        } else {
            Py_UCS4 *o = (Py_UCS4 *)odata + pos;
            const Py_UCS2 *in = (const Py_UCS2 *)s->data;
            for (k = 0; k < n; k++) o[k] = in[k];
        }
        return pos + n;
    }

    /* Equal strings: both canonical, so equal text means equal kind and bytes. Role names are
       short, so a byte loop beats a call to memcmp. */
    static CYTHON_INLINE int cf_same(const cf_str *a, const cf_str *b) {
        Py_ssize_t n = a->len * a->kind, k;
        const unsigned char *x = (const unsigned char *)a->data, *y = (const unsigned char *)b->data;
        if (a->len != b->len || a->kind != b->kind) return 0;
        for (k = 0; k < n; k++) if (x[k] != y[k]) return 0;
        return 1;
    }

    /* Where s.strip() lies in s: str.strip() also tests Py_UNICODE_ISSPACE. */
    static void cf_strip(PyObject *s, Py_ssize_t *lo, Py_ssize_t *hi) {
        int kind = PyUnicode_KIND(s);
        const void *d = PyUnicode_DATA(s);
        Py_ssize_t a = 0, b = PyUnicode_GET_LENGTH(s);
        while (a < b && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, a))) a++;
        while (b > a && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, d, b - 1))) b--;
        *lo = a;
        *hi = b;
    }

    /* Equal exact strs (b is ready). */
    static CYTHON_INLINE int cf_eq(PyObject *a, PyObject *b) {
        cf_str x, y;
        if (a == b) return 1;
        if (CF_READY(a) < 0) { PyErr_Clear(); return 0; }
        cf_view(a, &x);
        cf_view(b, &y);
        return cf_same(&x, &y);
    }

    /* Read a message dict's role and content (borrowed) in one pass over its entries: cheaper than
       two hashed lookups. Only exact-str keys count (transformers rewrites the others). 0 declines:
       a missing field, a declined key that is not None, or, when the format declines keys, any key
       that is not an exact str (it might stand for one). */
    static int cf_fields(PyObject *d, PyObject *k_role, PyObject *k_content,
                         PyObject *const *declined, int ndeclined, PyObject **role, PyObject **content) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        int i;
        *role = *content = NULL;
        while (PyDict_Next(d, &pos, &key, &value)) {
            if (key == k_role) *role = value;
            else if (key == k_content) *content = value;
            else goto other_key;
            /* Nothing else is read: the remaining keys cannot matter (none can equal a field found). */
            if (ndeclined == 0 && *role != NULL && *content != NULL) return 1;
            continue;
        other_key:
            if (!PyUnicode_CheckExact(key)) {
                if (ndeclined) return 0;
                continue;
            }
            if (cf_eq(key, k_role)) { *role = value; continue; }
            if (cf_eq(key, k_content)) { *content = value; continue; }
            /* A declined key whose value is None is dropped before rendering, as transformers does. */
            for (i = 0; i < ndeclined; i++) if (value != Py_None && cf_eq(key, declined[i])) return 0;
        }
        return *role != NULL && *content != NULL;
    }
    """
    ctypedef struct cf_str:
        const void* data
        Py_ssize_t len
        int kind
        Py_UCS4 maxc
    int CF_READY(PyObject*) except -1
    void cf_view(PyObject*, cf_str*) noexcept nogil
    Py_ssize_t cf_put(void*, int, Py_ssize_t, const cf_str*) noexcept nogil
    bint cf_same(const cf_str*, const cf_str*) noexcept nogil
    void cf_strip(PyObject*, Py_ssize_t*, Py_ssize_t*) noexcept nogil
    bint cf_fields(PyObject*, PyObject*, PyObject*, PyObject**, int, PyObject**, PyObject**) noexcept

cdef extern from "Python.h":
    Py_ssize_t u_len "PyUnicode_GET_LENGTH"(PyObject*) noexcept nogil
    void* u_data "PyUnicode_DATA"(PyObject*) noexcept nogil
    int u_kind "PyUnicode_KIND"(PyObject*) noexcept nogil
    bint is_str "PyUnicode_Check"(PyObject*) noexcept nogil
    bint is_exact_str "PyUnicode_CheckExact"(PyObject*) noexcept nogil
    bint is_exact_dict "PyDict_CheckExact"(PyObject*) noexcept nogil
    bint is_exact_list "PyList_CheckExact"(PyObject*) noexcept nogil
    bint is_exact_tuple "PyTuple_CheckExact"(PyObject*) noexcept nogil
    PyObject* seq_item "PySequence_Fast_GET_ITEM"(PyObject*, Py_ssize_t) noexcept nogil
    Py_ssize_t seq_size "PySequence_Fast_GET_SIZE"(PyObject*) noexcept nogil
    object PyUnicode_New(Py_ssize_t, Py_UCS4)
    object PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    object PyUnicode_FromObject(object)
    Py_ssize_t PyUnicode_Find(object, object, Py_ssize_t, Py_ssize_t, int) except -2

__all__ = ["Renderer"]

cdef object K_ROLE = "role"
cdef object K_CONTENT = "content"
cdef object THINK_END = "</think>"
cdef object NEWLINE = "\n"
cdef Py_ssize_t VARIANTS_KEPT = 16  # static variants a dynamic renderer keeps (a new day or switch value adds one)

cdef object _json_dumps = None  # json.dumps, imported on first use: few formats need it, and json imports re


cdef object _dumps_json(object content):
    global _json_dumps
    if _json_dumps is None:
        from json import dumps
        _json_dumps = dumps
    return _json_dumps(content, ensure_ascii=False)


cdef enum:
    SMALL = 16  # conversations up to this many messages need no heap allocation

check_codes("chatfmt._fast._render_c", _plan)


cdef struct CTurn:
    int kind
    int transform
    bint interp
    bint generated
    bint grouped
    bint is_user
    bint is_system
    bint skip_empty
    cf_str role  # len -1 for the generic turn
    cf_str head
    cf_str open_head
    cf_str role_tail
    cf_str tail
    cf_str close_tail
    Py_ssize_t end_len
    cf_str last[2]  # the tail of the conversation's last message, [without, with] the generation prompt
    Py_ssize_t last_end[2]
    PyObject* message


cdef struct Item:
    CTurn* turn
    cf_str role
    PyObject* content
    PyObject* reasoning  # think-block turns: the message's reasoning (a str) or None; borrowed or owned by scratch
    cf_str* head  # NULL when nothing is printed for the message
    cf_str piece  # the printed content
    Py_ssize_t skip  # where the content starts in piece (after a think block)
    cf_str* tail
    Py_ssize_t pos  # where piece starts in the output


cdef struct Scratch:
    PyObject* keep  # a list owning the strings this render created, NULL until the first one


cdef PyObject* _own(Scratch* scratch, object obj) except NULL:
    """Keep `obj` alive until the render ends; return it as a borrowed pointer."""
    cdef list keep
    if scratch.keep == NULL:
        keep = []
        Py_INCREF(keep)
        scratch.keep = <PyObject*>keep
    (<list>scratch.keep).append(obj)
    return <PyObject*>obj


cdef inline void _acc(const cf_str* s, Py_ssize_t* total, Py_UCS4* maxc) noexcept nogil:
    total[0] += s.len
    if s.maxc > maxc[0]:
        maxc[0] = s.maxc


cdef inline Py_ssize_t _clamp(Py_ssize_t x, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    return lo if x < lo else (hi if x > hi else x)


cdef object _template_error(object message):
    from jinja2.exceptions import TemplateError

    return TemplateError(message)


cdef int _view(object s, cf_str* v) except -1:
    """View a str the renderer's plan keeps alive."""
    CF_READY(<PyObject*>s)
    cf_view(<PyObject*>s, v)
    return 0


cdef int _fill(CTurn* c, object t) except -1:
    """Point a C turn at the strings of a PlanTurn."""
    c.kind = t.kind
    c.transform = t.transform
    c.interp = t.interp
    c.generated = t.generated
    c.grouped = t.grouped
    c.is_user = t.is_user
    c.is_system = t.is_system
    if t.role is None:
        c.role.len = -1
    else:
        _view(t.role, &c.role)
    _view(t.head, &c.head)
    _view(t.open_head, &c.open_head)
    _view(t.role_tail, &c.role_tail)
    _view(t.tail, &c.tail)
    _view(t.close_tail, &c.close_tail)
    c.end_len = t.end_len
    c.skip_empty = t.skip_empty
    _view(t.last_nogen, &c.last[0])
    _view(t.last_gen, &c.last[1])
    c.last_end[0] = t.last_end_nogen
    c.last_end[1] = t.last_end_gen
    cdef object message = t.message
    c.message = <PyObject*>message
    return 0


@cython.final
cdef class Renderer:
    """A `Format` compiled against one special-tokens mapping; renders conversations it covers."""

    cdef readonly object format
    cdef object _tokens
    cdef object _plan  # owns every string the C tables point into
    cdef CTurn* _turns
    cdef Py_ssize_t _nturns
    cdef CTurn _other
    cdef CTurn _system
    cdef bint _usable
    cdef int _policy
    cdef cf_str _start
    cdef cf_str _after_system
    cdef cf_str _gen
    cdef cf_str _no_gen
    cdef cf_str _default_block
    cdef bint _has_default
    cdef cf_str _loop_prefix
    cdef cf_str _empty
    cdef object _collect_sep
    cdef object _system_error
    cdef object _alternation_error
    cdef PyObject* _declined[MAX_DECLINED]
    cdef int _ndeclined
    cdef bint _may_raise  # the format has a system rejection, an alternation check or a rejected role
    cdef bint _query_scan
    cdef bint _default_if_empty
    cdef tuple _declined_system_text
    cdef dict _variants  # a dynamic format's static variants by Variants.key; None for a static format
    cdef object _choose

    def __cinit__(self, fmt, special_tokens=None):
        self._turns = NULL

    def __init__(self, fmt, special_tokens=None):
        self._tokens = dict(special_tokens or {})
        self.format = fmt
        # A dynamic format renders through static variants; its own plan only says whether it is usable.
        self._variants = {} if fmt.dynamic else None
        self._choose = Variants(fmt)
        plan = build_plan(static_variant(fmt, (False, ("",) * len(fmt.dates))) if fmt.dynamic else fmt, self._tokens)
        self._plan = plan
        self._query_scan = plan.query_scan
        self._default_if_empty = plan.default_if_empty
        self._declined_system_text = plan.declined_system_text
        self._usable = plan.usable
        self._policy = plan.system
        _view(plan.start, &self._start)
        _view(plan.after_system, &self._after_system)
        _view(plan.generation_prompt, &self._gen)
        _view(plan.no_generation_prompt, &self._no_gen)
        self._has_default = plan.default_block is not None
        if self._has_default:
            _view(plan.default_block, &self._default_block)
        _view(plan.loop_prefix, &self._loop_prefix)
        _view("", &self._empty)
        self._collect_sep = plan.collect_sep
        self._system_error = plan.system_error
        self._alternation_error = plan.alternation_error
        if len(plan.declined_keys) > MAX_DECLINED:
            raise ValueError(f"at most {MAX_DECLINED} declined keys")
        self._ndeclined = len(plan.declined_keys)
        cdef object key
        for i, key in enumerate(plan.declined_keys):
            CF_READY(<PyObject*>key)
            self._declined[i] = <PyObject*>key
        PyMem_Free(self._turns)
        self._turns = <CTurn*>PyMem_Malloc(len(plan.turns) * sizeof(CTurn))
        if self._turns == NULL:
            raise MemoryError()
        self._nturns = len(plan.turns)
        for i, turn in enumerate(plan.turns):
            _fill(&self._turns[i], turn)
        _fill(&self._other, plan.other)
        if plan.system_turn is not None:
            _fill(&self._system, plan.system_turn)
        else:
            self._system.kind = DECLINED
        self._may_raise = (
            self._policy == SYS_REJECT
            or plan.alternation_error is not None
            or any(t.kind == REJECTED for t in plan.turns + (plan.other,))
        )

    def __dealloc__(self):
        PyMem_Free(self._turns)

    def __reduce__(self):
        return Renderer, (self.format, self._tokens)

    @property
    def handled(self):
        """Template variables a call may pass to this renderer (`variables=`) instead of going to Jinja."""
        return self.format.handled

    cdef Renderer _for_call(self, object variables, bint today=True):
        """The renderer of this call's static variant (self for a static format); None leaves it to Jinja.
        Without `today`, one that covers the same inputs, found without reading the clock."""
        if self._variants is None:
            return self
        key = self._choose.key(variables, today)
        if key is None:
            return None
        found = self._variants.get(key)
        if found is None:
            if len(self._variants) >= VARIANTS_KEPT:
                self._variants.clear()
            found = self._variants[key] = Renderer(static_variant(self.format, key), self._tokens)
        return <Renderer>found

    cdef inline CTurn* _lookup(self, const cf_str* role) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(self._nturns):
            if cf_same(&self._turns[i].role, role):
                return &self._turns[i]
        return &self._other

    cdef int _scan(self, PyObject* seq, Item* items, Py_ssize_t n, Scratch* scratch) except -1:
        """Fill items; 1 when every message is covered, 0 to decline."""
        cdef Py_ssize_t i
        cdef PyObject* m
        cdef PyObject* role
        cdef PyObject* content
        cdef CTurn* turn
        cdef object reasoning
        for i in range(n):
            m = seq_item(seq, i)
            if not is_exact_dict(m):
                return 0
            if not cf_fields(m, <PyObject*>K_ROLE, <PyObject*>K_CONTENT, self._declined, self._ndeclined,
                             &role, &content):
                return 0
            if not is_exact_str(role):  # transformers strips subclasses back to str
                if not is_str(role):
                    return 0
                role = _own(scratch, PyUnicode_FromObject(<object>role))
            if not is_exact_str(content):
                if not is_str(content):
                    return 0
                content = _own(scratch, PyUnicode_FromObject(<object>content))
            CF_READY(role)
            CF_READY(content)
            cf_view(role, &items[i].role)
            turn = self._lookup(&items[i].role)
            if turn.kind == DECLINED:
                return 0
            items[i].turn = turn
            items[i].content = content
            items[i].reasoning = NULL
            if turn.transform == T_THINK_BLOCK:
                reasoning = reasoning_of(<object>m)
                if reasoning is not None and type(reasoning) is not str:
                    return 0
                items[i].reasoning = _own(scratch, reasoning)
        if self._declined_system_text and self._policy == SYS_LEAD and items[0].turn.is_system:
            for text in self._declined_system_text:
                if text in <object>items[0].content:
                    return 0
        if self._policy == SYS_FOLD and n > 1 and items[0].turn.is_system:
            if items[1].turn.transform != T_NONE and items[1].turn.transform != T_TRIM:
                return 0
        return 1

    cdef int _check(self, Item* items, Py_ssize_t n, Py_ssize_t first) except -1:
        """Raise where the template's raise_exception fires, in the template's order."""
        cdef Py_ssize_t i
        cdef CTurn* turn
        cdef bint alternate = self._alternation_error is not None
        if self._policy == SYS_REJECT and items[0].turn.is_system:
            raise _template_error(self._system_error)
        for i in range(first, n):
            turn = items[i].turn
            if alternate and turn.is_user != ((i - first) % 2 == 0):
                raise _template_error(self._alternation_error)
            if turn.kind == REJECTED:
                raise _template_error(<object>turn.message)
        return 0

    cdef object _transform(self, int transform, PyObject* content):
        cdef Py_ssize_t lo, hi, at, n = u_len(content)
        if transform == T_TRIM:
            cf_strip(content, &lo, &hi)
            if lo == 0 and hi == n:
                return <object>content
            return PyUnicode_Substring(<object>content, lo, hi)
        if transform == T_JSON:
            return _dumps_json(<object>content)
        if transform == T_LSTRIP_NEWLINES:
            return (<str>content).lstrip(NEWLINE)
        if transform == T_RSTRIP:
            return (<str>content).rstrip()
        if transform == T_AFTER_THINK:
            at = PyUnicode_Find(<object>content, THINK_END, 0, n, -1)
            if at < 0:
                return <object>content
            return PyUnicode_Substring(<object>content, at + 8, n)
        return <object>content

    cdef object _build(self, object messages, bint add_generation_prompt, bint want_spans, bint scan_only):
        """Render (or, with `scan_only`, just check coverage: True) these messages; None = not covered."""
        cdef PyObject* seq = <PyObject*>messages
        cdef Py_ssize_t n
        if not self._usable or not (is_exact_list(seq) or is_exact_tuple(seq)):
            return None
        n = seq_size(seq)
        if n == 0:
            return None
        cdef Item small[SMALL]
        cdef Item* items = small
        cdef Scratch scratch
        scratch.keep = NULL
        if n > SMALL:
            items = <Item*>PyMem_Malloc(n * sizeof(Item))
            if items == NULL:
                raise MemoryError()
        try:
            if scan_only:
                return True if self._scan(seq, items, n, &scratch) == 1 else None
            return self._build_items(seq, items, n, add_generation_prompt, want_spans, &scratch)
        finally:
            Py_XDECREF(scratch.keep)
            if items != small:
                PyMem_Free(items)

    cdef object _build_items(
        self, PyObject* seq, Item* items, Py_ssize_t n, bint agp, bint want_spans, Scratch* scratch
    ):
        if not self._scan(seq, items, n, scratch):
            return None
        cdef bint has_system = items[0].turn.is_system
        cdef int policy = self._policy
        cdef Py_ssize_t first = 1 if has_system and (policy == SYS_LEAD or policy == SYS_FOLD or policy == SYS_INLINE) else 0
        if self._may_raise:
            self._check(items, n, first)
        cdef Py_ssize_t query = n - 1  # Qwen3's last_query_index: the last user message that is not a tool response
        cdef Py_ssize_t i
        if self._query_scan:
            for i in range(n - 1, -1, -1):
                if items[i].turn.is_user and is_query(<object>items[i].content):
                    query = i
                    break

        # Measure: choose every piece, add up lengths and the widest code point.
        cdef Py_ssize_t total = 0, lo = 0, hi = 0, s0 = 0, u0 = 0, sys_len = 0
        cdef Py_UCS4 maxc = 0
        cdef CTurn* turn
        cdef CTurn* st = &self._system
        cdef bint has_sys_piece = False  # something fills the system slot (LEAD, COLLECT)
        cdef cf_str sys_piece
        sys_piece.len = 0
        sys_piece.kind = 1
        sys_piece.data = NULL
        cdef cf_str* end_text = &self._gen if agp else &self._no_gen
        cdef cf_str* sys_tail = &st.tail
        cdef cf_str* after_system = &self._after_system
        cdef bint fold = policy == SYS_FOLD and has_system
        cdef bint inline = policy == SYS_INLINE and has_system and n > 1  # printed inside the first loop turn
        cdef bint use_default = False
        cdef list collected = None
        cdef object obj
        _acc(&self._start, &total, &maxc)
        if policy == SYS_LEAD and has_system:
            cf_view(_own(scratch, self._transform(st.transform, items[0].content)), &sys_piece)
            has_sys_piece = sys_piece.len > 0 or not self._default_if_empty  # else it prints the default
        if has_sys_piece and policy == SYS_LEAD:
            if n == 1:  # the system message is the last one: its tail ends the prompt
                sys_tail = &st.last[agp]
                after_system = &self._empty
                end_text = &self._empty
        elif policy == SYS_COLLECT or policy == SYS_LAST:
            collected = []
            for i in range(n):
                if items[i].turn.is_system:
                    collected.append(self._transform(st.transform, items[i].content))
            if policy == SYS_LAST and len(collected) > 1:
                collected = [collected[len(collected) - 1]]
            if collected:
                cf_view(_own(scratch, self._collect_sep.join(collected)), &sys_piece)
                has_sys_piece = True
        elif inline:
            cf_view(_own(scratch, self._transform(st.transform, items[0].content)), &sys_piece)
        if has_sys_piece or inline:
            _acc(&st.head, &total, &maxc)
            _acc(&sys_piece, &total, &maxc)
            _acc(sys_tail, &total, &maxc)
        elif self._has_default:
            if policy == SYS_LEAD:
                use_default = True
            elif policy == SYS_TURN:
                use_default = True
                for i in range(n):
                    if items[i].turn.is_system:
                        use_default = False
                        break
            if use_default:
                _acc(&self._default_block, &total, &maxc)
        _acc(after_system, &total, &maxc)

        for i in range(first, n):
            turn = items[i].turn
            items[i].skip = 0
            if turn.kind == SKIPPED:
                items[i].head = &turn.head
                items[i].tail = NULL
                _acc(&turn.head, &total, &maxc)
                continue
            if turn.skip_empty and u_len(items[i].content) == 0:
                items[i].head = &self._loop_prefix
                items[i].tail = NULL
                _acc(&self._loop_prefix, &total, &maxc)
                continue
            if turn.grouped and (i == first or items[i - 1].turn != turn):
                items[i].head = &turn.open_head
            else:
                items[i].head = &turn.head
            if i == n - 1:  # the last message's tail ends the prompt
                items[i].tail = &turn.last[agp]
                end_text = &self._empty
            elif turn.grouped and items[i + 1].turn != turn:
                items[i].tail = &turn.close_tail
            else:
                items[i].tail = &turn.tail
            if fold and i == first:
                obj = self._transform(st.transform, items[0].content)
                sys_len = len(obj)
                obj = self._plan.system_turn.head + obj + self._plan.system_turn.tail + <object>items[i].content
                s0 = st.head.len
                u0 = s0 + sys_len + st.tail.len
                lo, hi = 0, len(obj)
                if turn.transform == T_TRIM:
                    cf_strip(<PyObject*>obj, &lo, &hi)
                    obj = PyUnicode_Substring(obj, lo, hi)
                cf_view(_own(scratch, obj), &items[i].piece)
            elif turn.transform == T_NONE:
                cf_view(items[i].content, &items[i].piece)
            elif turn.transform == T_THINK_BLOCK:
                obj, items[i].skip = think_block(
                    <object>items[i].content, <object>items[i].reasoning, i == n - 1, i > query
                )
                cf_view(_own(scratch, obj), &items[i].piece)
            elif turn.transform == T_PAST_AFTER_THINK:
                cf_view(_own(scratch, past_after_think(<object>items[i].content, i == n - 1)), &items[i].piece)
            else:
                cf_view(_own(scratch, self._transform(turn.transform, items[i].content)), &items[i].piece)
            _acc(items[i].head, &total, &maxc)
            if turn.interp:
                _acc(&items[i].role, &total, &maxc)
                _acc(&turn.role_tail, &total, &maxc)
            _acc(&items[i].piece, &total, &maxc)
            _acc(items[i].tail, &total, &maxc)
        _acc(end_text, &total, &maxc)

        # Copy: one allocation, every piece written once.
        cdef object out = PyUnicode_New(total, maxc)
        cdef void* odata = u_data(<PyObject*>out)
        cdef int okind = u_kind(<PyObject*>out)
        cdef Py_ssize_t pos = cf_put(odata, okind, 0, &self._start), sys_pos = 0
        if has_sys_piece:
            pos = cf_put(odata, okind, pos, &st.head)
            sys_pos = pos
            pos = cf_put(odata, okind, pos, &sys_piece)
            pos = cf_put(odata, okind, pos, sys_tail)
        elif use_default:
            pos = cf_put(odata, okind, pos, &self._default_block)
        pos = cf_put(odata, okind, pos, after_system)
        for i in range(first, n):
            pos = cf_put(odata, okind, pos, items[i].head)
            if items[i].tail == NULL:  # skipped role
                continue
            if items[i].turn.interp:
                pos = cf_put(odata, okind, pos, &items[i].role)
                pos = cf_put(odata, okind, pos, &items[i].turn.role_tail)
            if inline and i == first:
                pos = cf_put(odata, okind, pos, &st.head)
                sys_pos = pos
                pos = cf_put(odata, okind, pos, &sys_piece)
                pos = cf_put(odata, okind, pos, &st.tail)
            items[i].pos = pos
            pos = cf_put(odata, okind, pos, &items[i].piece)
            pos = cf_put(odata, okind, pos, items[i].tail)
        cf_put(odata, okind, pos, end_text)
        if not want_spans:
            return out

        # Spans: read back from the positions recorded while copying.
        cdef list content_spans = [None] * n
        cdef list generation_spans = []
        cdef Py_ssize_t at, plen, k = 0
        if (has_sys_piece and policy == SYS_LEAD) or inline:
            content_spans[0] = (sys_pos, sys_pos + sys_piece.len)
        elif has_sys_piece and policy == SYS_LAST:
            for i in range(n - 1, -1, -1):
                if items[i].turn.is_system:
                    content_spans[i] = (sys_pos, sys_pos + sys_piece.len)
                    break
        elif has_sys_piece:  # COLLECT: the pieces sit in order, joined by collect_sep
            at = sys_pos
            for i in range(n):
                if items[i].turn.is_system:
                    plen = len(collected[k])
                    content_spans[i] = (at, at + plen)
                    at += plen + len(self._collect_sep)
                    k += 1
        for i in range(first, n):
            if items[i].tail == NULL:
                continue
            at = items[i].pos
            plen = items[i].piece.len
            if fold and i == first:
                content_spans[0] = (at + _clamp(s0, lo, hi) - lo, at + _clamp(s0 + sys_len, lo, hi) - lo)
                content_spans[i] = (at + _clamp(u0, lo, hi) - lo, at + plen)
            else:
                content_spans[i] = (at + items[i].skip, at + plen)
            if items[i].turn.generated:
                if i == n - 1:
                    generation_spans.append((at, at + plen + items[i].turn.last_end[agp]))
                else:
                    generation_spans.append((at, at + plen + items[i].turn.end_len))
        return out, content_spans, generation_spans

    def covers(self, messages, variables=None):
        """Whether `render` gives the reference result for these messages (a string or the same error)."""
        cdef Renderer renderer = self._for_call(variables, False)
        return renderer is not None and renderer._build(messages, False, False, True) is not None

    def render(self, messages, add_generation_prompt=False, variables=None):
        """The prompt text, or None when this input is not covered (render it with Jinja instead).

        `variables` are the call's template variables; only the `handled` ones are read.
        """
        if self._variants is None:
            return self._build(messages, add_generation_prompt, False, False)
        cdef Renderer renderer = self._for_call(variables)
        return None if renderer is None else renderer._build(messages, add_generation_prompt, False, False)

    def render_batch(self, conversations, add_generation_prompt=False, variables=None):
        """`render` over many conversations (the clock is read once per conversation, as transformers
        reads it once per render); None marks each one not covered."""
        cdef bint agp = add_generation_prompt
        if self._variants is None:
            return [self._build(messages, agp, False, False) for messages in conversations]
        return [self.render(messages, agp, variables) for messages in conversations]

    def render_spans(self, messages, add_generation_prompt=False, variables=None):
        """(text, content span per message or None if not printed, generation spans), or None if not covered."""
        cdef Renderer renderer = self._for_call(variables)
        return None if renderer is None else renderer._build(messages, add_generation_prompt, True, False)
