"""The command line: parse, call one service, render. No domain rules here."""
