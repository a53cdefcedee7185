from pathlib import Path

#: The project's root (where pyproject.toml is), whatever folder a test sits in.
ROOT = Path(__file__).resolve().parents[2]
