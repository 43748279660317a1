# gunicorn.conf.py: gunicorn reads it from the working directory.
import multiprocessing

# The reverse proxy on the same machine talks to this address.
bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count() * 2 + 1
# Threads share each worker's connection pools to the providers.
threads = 4
# Each worker has its own state; load the app in each, after the fork.
preload_app = False
# The forwarding headers are trusted by ProxyFix in the app, not here.
forwarded_allow_ips = "127.0.0.1"
