"""The language server for ``.rules`` files (``gridcore lsp``; needs the ``lsp`` extra: pygls)."""
