"""GGZY Watch: the supervision warehouse for public resource trading (公共资源交易协同监管)."""

__version__ = "0.1.0"
