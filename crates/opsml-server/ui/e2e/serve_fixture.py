"""A real `opsml server start` on PostgreSQL for the UI's end-to-end tests: prints its URL and
the admin's password as JSON, serves until its standard input closes, then stops."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests"))

from services import ServerProcess

home = Path(sys.argv[1])
server = ServerProcess(home, "ui_e2e", str(home / "objects"))
server.start()
print(json.dumps({"url": server.url, "password": server.password}), flush=True)
sys.stdin.read()
server.stop()
