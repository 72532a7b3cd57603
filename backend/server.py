"""Entry point: `python3 backend/server.py`. Everything else lives in the crm package."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crm.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
