"""Worker processes: the pool that starts, replaces and retries them (`_pool.py`), starting one
(`_spawn.py`), and what one worker process does (`_process.py`). The bootstrap that sets a
worker's environment before TensorFlow is imported is `autotune/_worker_process.py`.
"""
