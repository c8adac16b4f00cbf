"""The sql component: the PyPI package `sqlparse` behind `nanoproc:sql/text`.

`cargo xtask build` installs sqlparse from requirements.txt (pinned, with
its hash) and componentize-py makes this module and the package a
component whose WASI imports are stubs, so that it imports nothing.
"""

import sqlparse
from sqlparse import tokens as T

from wit_world import exports
from wit_world.exports.text import LetterCase, Options, Token, TokenKind

# sqlparse's names for the letter cases `format` takes.
CASES = {
    LetterCase.UPPERCASE: "upper",
    LetterCase.LOWERCASE: "lower",
    LetterCase.CAPITALIZED: "capitalize",
}

# Each kind with the sqlparse token type it stands for, most specific first:
# a quoted name (`"Users"`) is a name although sqlparse files it under
# literals, and newlines are whitespace.
KINDS = [
    (T.Literal.String.Symbol, TokenKind.NAME),
    (T.Keyword, TokenKind.KEYWORD),
    (T.Name, TokenKind.NAME),
    (T.Literal, TokenKind.LITERAL),
    (T.Operator, TokenKind.OPERATOR),
    (T.Punctuation, TokenKind.PUNCTUATION),
    (T.Comment, TokenKind.COMMENT),
    (T.Text, TokenKind.WHITESPACE),
]


def kind(ttype):
    for parent, k in KINDS:
        if ttype in parent:
            return k
    return TokenKind.OTHER


class Text(exports.Text):
    def format(self, sql: str, options: Options) -> str:
        settings = {
            "strip_comments": options.strip_comments,
            "reindent": options.reindent,
        }
        if options.keyword_case is not None:
            settings["keyword_case"] = CASES[options.keyword_case]
        if options.identifier_case is not None:
            settings["identifier_case"] = CASES[options.identifier_case]
        return sqlparse.format(sql, **settings)

    def split(self, sql: str) -> list[str]:
        return sqlparse.split(sql)

    def tokens(self, sql: str) -> list[Token]:
        # sqlparse's type names start with `Token.`, which says nothing.
        return [
            Token(kind(t.ttype), str(t.ttype).removeprefix("Token."), t.value)
            for statement in sqlparse.parse(sql)
            for t in statement.flatten()
        ]
