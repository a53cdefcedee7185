"""Moved to :mod:`es_rerank.env_mirrors` (the flag mirrors are shared by every command);
this name stays so that older imports keep working."""

from es_rerank.env_mirrors import ENV_MIRRORS, apply_env_mirrors, from_environment

__all__ = ["ENV_MIRRORS", "apply_env_mirrors", "from_environment"]
