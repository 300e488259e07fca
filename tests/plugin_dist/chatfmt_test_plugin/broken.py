"""A plugin module that fails on import."""

import chatfmt_test_plugin

chatfmt_test_plugin.BROKEN_IMPORTS += 1

raise RuntimeError("chatfmt_test_plugin.broken exploded on purpose")

SOURCE = "never reached"
