"""shuangsuiji — joint "双随机、一公开" spot checks over a local store, with verifiable draws.

``from shuangsuiji import Store`` is the Python API (shuangsuiji/api.py, docs/python-api.md);
it is imported on first use, so the command line never pays for it at start-up.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Store":
        from shuangsuiji.api import Store

        return Store
    raise AttributeError(f"module 'shuangsuiji' has no attribute {name!r}")
