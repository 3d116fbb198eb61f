# workerd: one worker serving the job on 127.0.0.1 (the test passes --socket-addr http=127.0.0.1:PORT).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .trainer) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const trainer :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "job.js", esModule = embed "job.js"),
    (name = "model.wasm", wasm = embed "model.wasm"),
  ],
  compatibilityDate = "2024-09-23",
);
