"""The baseline of benchmarks/ray_executor.py: N bare Ray tasks, each writing one small object.

``python ray_bare.py ADDRESS N BUCKET ENDPOINT``: connects to the Ray cluster at
ADDRESS and runs N tasks that each put one 100-byte object into BUCKET on the S3
server at ENDPOINT (credentials from the environment), with obstore — the client
stepwell's S3 datastore uses — one client per worker process. Waits for all.
"""

import sys

import ray

_stores: dict = {}


def _store(bucket: str, endpoint: str):
    if bucket not in _stores:
        from obstore.store import S3Store

        _stores[bucket] = S3Store(bucket, endpoint=endpoint, client_options={"allow_http": True})
    return _stores[bucket]


@ray.remote(max_retries=0)
def put_one(index: int, bucket: str, endpoint: str) -> int:
    import obstore

    obstore.put(_store(bucket, endpoint), f"bare/{index}", b"x" * 100)
    return index


def main() -> None:
    address, count, bucket, endpoint = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             configure_logging=False)  # fmt: skip
    done = ray.get([put_one.remote(i, bucket, endpoint) for i in range(count)])
    assert sorted(done) == list(range(count))
    ray.shutdown()


if __name__ == "__main__":
    main()
