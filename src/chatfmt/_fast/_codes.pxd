# The plan's small-int codes (`_plan.py`) as C constants for the Cython modules, so comparisons stay in
# C. Each module calls `check_codes` at import: a stale build fails loudly instead of rendering wrong.

cdef enum:
    TURN = 0
    SKIPPED = 1
    REJECTED = 2
    DECLINED = 3
cdef enum:
    T_NONE = 0
    T_TRIM = 1
    T_JSON = 2
    T_AFTER_THINK = 3
    T_LSTRIP_NEWLINES = 4
    T_PAST_AFTER_THINK = 5
    T_THINK_BLOCK = 6
    T_RSTRIP = 7
cdef enum:
    SYS_TURN = 0
    SYS_LEAD = 1
    SYS_FOLD = 2
    SYS_REJECT = 3
    SYS_COLLECT = 4
    SYS_LAST = 5
    SYS_INLINE = 6
cdef enum:
    MAX_DECLINED = 8


cdef inline check_codes(str module, object plan):
    codes = {
        "TURN": TURN, "SKIPPED": SKIPPED, "REJECTED": REJECTED, "DECLINED": DECLINED,
        "T_NONE": T_NONE, "T_TRIM": T_TRIM, "T_JSON": T_JSON, "T_AFTER_THINK": T_AFTER_THINK,
        "T_LSTRIP_NEWLINES": T_LSTRIP_NEWLINES, "T_PAST_AFTER_THINK": T_PAST_AFTER_THINK,
        "T_THINK_BLOCK": T_THINK_BLOCK, "T_RSTRIP": T_RSTRIP,
        "SYS_TURN": SYS_TURN, "SYS_LEAD": SYS_LEAD, "SYS_FOLD": SYS_FOLD, "SYS_REJECT": SYS_REJECT,
        "SYS_COLLECT": SYS_COLLECT, "SYS_LAST": SYS_LAST, "SYS_INLINE": SYS_INLINE,
    }
    for name, value in codes.items():
        if getattr(plan, name) != value:
            raise ImportError(f"{module} is out of date with _plan ({name}); rebuild the extension")
