"""A pymarkdown rule (``tox -e docs``): a fence line inside a fenced code block.

A code block whose closing fence has text after it (```` ``` The document...````) is
not closed there: it runs on to the next bare fence, swallowing the prose and headings
between (``mkdocs --strict`` does not notice). Inside the swallowed part, the next
opening fence (```` ```python ````) shows up as a line of code: that is what this rule
reports. A block that shows a fence on purpose uses ``~~~`` or a longer fence.
"""

from __future__ import annotations

import re
from typing import cast

from pymarkdown.plugin_manager.plugin_details import PluginDetails
from pymarkdown.plugin_manager.plugin_scan_context import PluginScanContext
from pymarkdown.plugin_manager.rule_plugin import RulePlugin
from pymarkdown.tokens.fenced_code_block_markdown_token import FencedCodeBlockMarkdownToken
from pymarkdown.tokens.markdown_token import MarkdownToken
from pymarkdown.tokens.text_markdown_token import TextMarkdownToken


class FenceInCode(RulePlugin):
    def __init__(self) -> None:
        super().__init__()
        self._fence: str | None = None

    def get_details(self) -> PluginDetails:
        return PluginDetails(
            plugin_name="fence-in-code",
            plugin_id="DL001",
            plugin_enabled_by_default=True,
            plugin_description="A fence inside a fenced code block (an earlier fence "
            "did not close: text after a closing fence?)",
            plugin_version="0.1.0",
            plugin_interface_version=1,
        )

    def starting_new_file(self) -> None:
        self._fence = None

    def next_token(self, context: PluginScanContext, token: MarkdownToken) -> None:
        if token.is_fenced_code_block:
            fenced = cast(FencedCodeBlockMarkdownToken, token)
            self._fence = fenced.fence_character * fenced.fence_count
        elif token.is_fenced_code_block_end:
            self._fence = None
        elif self._fence is not None and token.is_text:
            text = cast(TextMarkdownToken, token).token_text
            if re.search(rf"(^|\n)[ \t]*{re.escape(self._fence)}", text):
                self.report_next_token_error(context, token)
