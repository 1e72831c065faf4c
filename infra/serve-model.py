"""Runs llama.cpp's OpenAI-compatible server (xllamacpp) for one GGUF model; started by infra/model-server.sh."""
import os
import signal
import threading

import xllamacpp as xlc

try:
    os.setsid()  # detach from the caller's process group, so Ctrl-C or a CI group kill of the caller leaves it alone
except OSError:
    pass
env = os.environ
p = xlc.CommonParams()
p.model.path = env["MS_MODEL_PATH"]
p.model_alias = {env["MS_ALIAS"]}
p.hostnames = ["127.0.0.1"]
p.port = int(env["MS_PORT"])
p.n_parallel = int(env["MS_PARALLEL"])
p.n_ctx = int(env["MS_CTX"]) * p.n_parallel  # llama.cpp splits n_ctx across its slots
p.cpuparams.n_threads = int(env["MS_GEN_THREADS"])
p.cpuparams_batch.n_threads = int(env["MS_THREADS"])
p.n_batch = int(env.get("MS_BATCH", "512"))
p.n_ubatch = min(p.n_batch, 512)
p.cache_ram_mib = 512
p.offline = True
p.ui = False
p.endpoint_metrics = True
p.endpoint_props = True
print(
    f"model-server: loading {p.model.path} alias={env['MS_ALIAS']} ctx/slot={env['MS_CTX']} "
    f"slots={p.n_parallel} threads(gen/batch)={env['MS_GEN_THREADS']}/{env['MS_THREADS']} batch={p.n_batch}",
    flush=True,
)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
server = xlc.Server(p)  # returns once the model is loaded and HTTP is listening
print(f"model-server: listening on {server.listening_address}", flush=True)
stop.wait()
print("model-server: stopping", flush=True)
os._exit(0)
