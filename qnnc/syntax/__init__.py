"""Syntax: the Lark grammar, typed AST nodes with source spans, and the formatter."""
