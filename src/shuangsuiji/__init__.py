"""shuangsuiji — joint "双随机、一公开" spot checks over a local store, with verifiable draws."""

__version__ = "0.1.0"
