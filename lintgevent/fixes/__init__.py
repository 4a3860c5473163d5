"""libcst codemods, one module per rule they fix (codemods.CODEMODS maps a code to its codemod).

Each codemod takes a parsed module, the findings of its rule in that file (their `fix` plans come
from the rule's check) and the user's FixOptions, and returns the new module and, for each finding it
left alone, the reason.  This package's own import stays cheap: libcst comes with the codemods.
"""

# The codes a codemod fixes, known without importing libcst (the command line's help names them).
FIXED_CODES = ("GEV201", "GEV203", "GEV301", "GEV302")
