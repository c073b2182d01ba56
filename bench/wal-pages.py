#!/usr/bin/env python3
"""Which b-trees the commits in a SQLite WAL wrote, frames per commit.

Usage: bench/wal-pages.py DB WAL [N]

DB and WAL are copies of tender.db and tender.db-wal taken together while Tender runs (stop it
with SIGSTOP, copy both, SIGCONT). The WAL's frame headers give each frame's page number and mark
the last frame of each commit; dbstat on a scratch copy of the pair maps page numbers to the
table or index that owns them. Prints, for the last N commits (default 200), how many frames per
commit went to each b-tree's leaves and interior pages. This is how the descending list indexes
were found rewriting four pages per commit (bench/results.md, 2026-12-03).
"""
import collections
import os
import shutil
import sqlite3
import struct
import sys
import tempfile


def commits_of(wal_path):
    data = open(wal_path, "rb").read()
    if len(data) < 32:
        return []
    _, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">8I", data[:32])
    commits, current, off = [], [], 32
    while off + 24 + page_size <= len(data):
        page, commit_size, s1, s2 = struct.unpack(">4I", data[off:off + 16])
        if (s1, s2) != (salt1, salt2):
            break  # frames of an earlier generation of the log
        current.append(page)
        if commit_size:
            commits.append(current)
            current = []
        off += 24 + page_size
    return commits


def owners(db_path, wal_path):
    # dbstat on a scratch copy: opening the pair runs recovery and, on close, a checkpoint
    scratch = tempfile.mkdtemp()
    try:
        shutil.copy(db_path, os.path.join(scratch, "t.db"))
        shutil.copy(wal_path, os.path.join(scratch, "t.db-wal"))
        con = sqlite3.connect(os.path.join(scratch, "t.db"))
        rows = con.execute("SELECT pageno, name, pagetype FROM dbstat").fetchall()
        con.close()
        return {page: f"{name} {kind}" for page, name, kind in rows}
    finally:
        shutil.rmtree(scratch)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    commits = commits_of(sys.argv[2])[-n:]
    if not commits:
        sys.exit("no complete commit in the WAL")
    owner = owners(sys.argv[1], sys.argv[2])
    count = collections.Counter(owner.get(p, "new or free page") for c in commits for p in c)
    print(f"{len(commits)} commits, {sum(map(len, commits)) / len(commits):.1f} frames each")
    for what, k in count.most_common():
        print(f"{k / len(commits):6.2f}  {what}")


if __name__ == "__main__":
    main()
