"""In-process A/B of the JWT user read (issue 12): every signed-in read the benchmark asks,
through Django's test client on a bench dataset, with each way of reading the caller's
user in turn, interleaved round by round, beside the floor measured in the same round.
Prints the median CPU ms per request (time.process_time: the Django process's own work,
so the other engineers' load on the shared cores moves it less than wall time) and the
median of each round's ratio to the floor.

    # environment as bench.py's server_env, on a dataset that bench.py or make_dataset built:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dp_bench_10k \\
    DJANGO_SETTINGS_MODULE=doctors_portal.settings_bench DJANGO_DEBUG=0 DJANGO_SECRET_KEY=... \\
    DJANGO_ALLOWED_HOSTS=127.0.0.1 .venv/bin/python bench/auth_read_ab.py [--rounds 6 --n 150]

Variants: `orm` is what ships (simplejwt's get_user: User.objects.get(pk=...)); `only`
reads only the columns the reads use; `noread` never reads the user after the first
request (NOT shippable: a deactivated user would keep access for the token's lifetime);
it only sizes what the read costs.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench

KEYS = ["floor", "booking_id", "bookings_email", "booking_doctor", "users_doctor"]
ONLY = ("id", "email", "role", "is_active", "is_superuser", "password", "name")


def variants() -> dict:
    from rest_framework_simplejwt.authentication import JWTAuthentication as Base
    from rest_framework_simplejwt.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.utils import get_md5_hash_password

    from accounts.models import User

    def checked(user, token):
        if not user.is_active:
            raise AuthenticationFailed("User is inactive")
        if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The user's password has been changed.")
        return user

    def only(self, token):
        return checked(User.objects.only(*ONLY).get(pk=token[api_settings.USER_ID_CLAIM]), token)

    seen = {}

    def noread(self, token):
        uid = token[api_settings.USER_ID_CLAIM]
        if uid not in seen:
            seen[uid] = User.objects.get(pk=uid)
        return checked(seen[uid], token)

    return {"orm": Base.get_user, "only": only, "noread": noread}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n", type=int, default=150)
    args = parser.parse_args()
    bench.setup_django()
    from django.test import Client

    from accounts.authentication import JWTAuthentication

    reqs = bench.requests_for(bench.discover())
    client = Client(HTTP_HOST="127.0.0.1")
    ways = variants()

    def run(key: str, n: int) -> float:
        path, auth = reqs[key]
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        times = []
        for _ in range(n):
            started = time.process_time()
            response = client.get(path, **headers)
            times.append(time.process_time() - started)
            assert response.status_code == 200, (key, response.status_code)
        return statistics.median(times) * 1000

    names = list(ways)
    for name in names:  # warm up: prepared statements, caches
        JWTAuthentication.get_user = ways[name]
        for key in KEYS:
            run(key, 50)
    ms = {(name, key): [] for name in names for key in KEYS}
    ratio = {(name, key): [] for name in names for key in KEYS}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            JWTAuthentication.get_user = ways[name]
            floor = run("floor", args.n)
            for key in KEYS:
                took = floor if key == "floor" else run(key, args.n)
                ms[(name, key)].append(took)
                ratio[(name, key)].append(floor / took)
    for key in KEYS:
        cells = [
            f"{name}: {statistics.median(ms[(name, key)]):.3f} ms "
            f"x{statistics.median(ratio[(name, key)]):.2f}"
            for name in names
        ]
        print(f"{key:16}", "  ".join(cells))


if __name__ == "__main__":
    main()
