"""Superset configuration for GGZY Watch (loaded via SUPERSET_CONFIG_PATH).

Leaders read Chinese, so Chinese is the default language (English stays
selectable). Nothing here needs the network: no Mapbox key, no telemetry pixel
(the CSP below blocks Scarf), no web fonts (CJK comes from the system's Noto
fonts). Secrets come from the environment or from $GGZY_HOME, never from git.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

# Superset executes this file by path; make the sibling settings module importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ggzy_superset import settings  # noqa: E402

_home = settings.superset_home()
_home.mkdir(parents=True, exist_ok=True)

SECRET_KEY = settings.secret_key()
SQLALCHEMY_DATABASE_URI = settings.metadata_url()
DATA_DIR = str(_home)

APP_NAME = "云南省公共资源交易协同监管"
LOGO_RIGHT_TEXT = "GGZY Watch"

# --- language -----------------------------------------------------------
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "us", "name": "English"},
}
D3_FORMAT = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}
CURRENCIES = ["CNY"]

# --- features -------------------------------------------------------------
# Native filters and dashboard cross-filters are always on in Superset 6 (their
# flags were retired); virtualisation is off so that every chart renders for
# full-page screenshots and prints.
FEATURE_FLAGS = {
    "DASHBOARD_VIRTUALIZATION": False,
    "DRILL_TO_DETAIL": True,
    "DRILL_BY": True,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "EMBEDDED_SUPERSET": False,
    "TAGGING_SYSTEM": False,
}
DEFAULT_TIME_FILTER = "No filter"

# --- API and sessions ----------------------------------------------------------
# CSRF stays on for browser forms; API clients (our setup/check scripts) fetch a
# token from /api/v1/security/csrf_token/ in the same session. A token lives as
# long as the session, so long UI sessions don't fail with a stale token.
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = False  # served on localhost over http; set True behind TLS
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

# --- caching: the marts are small; always show what the last nightly run built --
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300, "CACHE_KEY_PREFIX": "ggzy_"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 10000

# --- no outbound network -------------------------------------------------------
MAPBOX_API_KEY = ""
CONTENT_SECURITY_POLICY_WARNING = False
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
THEME_DEFAULT = {
    "token": {
        "brandAppName": APP_NAME,
        "brandLogoAlt": APP_NAME,
        "brandLogoUrl": "/static/assets/images/superset-logo-horiz.png",
        "brandLogoMargin": "18px 0",
        "brandLogoHref": "/",
        "brandLogoHeight": "24px",
        "colorPrimary": "#1f5fa8",
        "colorLink": "#1f5fa8",
        "colorError": "#d9363e",
        "colorWarning": "#fa8c16",
        "colorSuccess": "#389e0d",
        "colorInfo": "#1677ff",
        "fontUrls": [],
        "fontFamily": "Inter, 'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif",
        "fontFamilyCode": "'IBM Plex Mono', 'Courier New', monospace",
        "transitionTiming": 0.3,
        "brandIconMaxWidth": 37,
        "fontSizeXS": "8",
        "fontSizeXXL": "28",
        "fontWeightNormal": "400",
        "fontWeightLight": "300",
        "fontWeightStrong": "500",
        "fontWeightBold": "700",
        "colorEditorSelection": "#fff5cf",
    },
    "algorithm": "default",
}
THEME_DARK = None

RATELIMIT_STORAGE_URI = "memory://"

# --- logging ---------------------------------------------------------------------
LOG_LEVEL = "WARNING"
