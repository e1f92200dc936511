"""Per-token activation scales for an ONNX Runtime dynamically quantised transformer.

``onnxruntime.quantization.quantize_dynamic`` quantises each MatMul's input with one scale and zero
point for the whole tensor (``DynamicQuantizeLinear``), so the scale depends on every text in the
batch. A text's vector then moves with its batch-mates: on banking77, 24 of 3,080 ensemble
predictions change when each text is classified alone. This rewrite gives every token its own
symmetric scale instead (``max |x|`` over the hidden size / 127):

    q = QuantizeLinear(x * 127 / max|x|, scale 1, zero point 128)     uint8, per token
    y = MatMulInteger(q, W) -> float, x per-channel weight scale    (unchanged)
    y = y * max|x| / 127                                             the token's own scale, after

The zero point stays one scalar, so MatMulInteger keeps its fast u8 x s8 kernel and ONNX Runtime's
MatMulIntegerToFloat fusion still applies (it assumes a scalar input scale, which is why the
token's scale multiplies the output instead of going in). A token's vector depends on that
token's activations alone: batch-independent, and closer to fp32 (MiniLM on banking77: mean
cosine 0.9973, against 0.9936 per tensor) at ~85% of the speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CONSTANTS = {"tw_zero_point": np.array(128, np.uint8), "tw_one": np.array(1.0, np.float32),
              "tw_127": np.array(127.0, np.float32), "tw_eps": np.array(1e-8, np.float32)}


def per_token_activations(model: Any) -> int:
    """Rewrite ``model`` (an ``onnx.ModelProto`` from ``quantize_dynamic``) in place; returns how
    many quantisers were rewritten."""
    from onnx import helper, numpy_helper

    graph = model.graph
    graph.initializer.extend(numpy_helper.from_array(value, name) for name, value in _CONSTANTS.items())
    token_scale: dict[str, str] = {}  # the old per-tensor scale output -> the per-token scale
    nodes = []
    for i, node in enumerate(graph.node):
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        x, (q, scale, zero_point), p = node.input[0], node.output, f"tw{i}_"
        token_scale[scale] = p + "scale"
        nodes += [
            helper.make_node("Abs", [x], [p + "abs"]),
            helper.make_node("ReduceMax", [p + "abs"], [p + "max"], keepdims=1, axes=[-1]),
            helper.make_node("Max", [p + "max", "tw_eps"], [p + "range"]),  # an all-zero token stays zero
            helper.make_node("Div", [p + "range", "tw_127"], [p + "scale"]),
            helper.make_node("Div", ["tw_127", p + "range"], [p + "inverse"]),
            helper.make_node("Mul", [x, p + "inverse"], [p + "scaled"]),
            helper.make_node("QuantizeLinear", [p + "scaled", "tw_one", "tw_zero_point"], [q]),
            helper.make_node("Identity", ["tw_zero_point"], [zero_point]),
            helper.make_node("Identity", ["tw_one"], [scale]),
        ]
    # quantize_dynamic writes y = float(MatMulInteger(...)) * (input scale * weight scale): find
    # the product of each rewritten scale, then the Mul that applies it, and scale its output
    consumers = [node for node in nodes if set(node.input) & token_scale.keys() and node.op_type != "Identity"]
    products = {node.output[0]: token_scale[next(i for i in node.input if i in token_scale)]
                for node in consumers if node.op_type == "Mul"}
    rewritten, applied = [], set()
    for node in nodes:
        rewritten.append(node)
        product = next((i for i in node.input if i in products), None)
        if node.op_type == "Mul" and product is not None:
            out = node.output[0]
            node.output[0] = out + "_tw_unscaled"
            rewritten.append(helper.make_node("Mul", [out + "_tw_unscaled", products[product]], [out]))
            applied.add(product)
    if len(products) != len(consumers) or applied != products.keys():
        raise ValueError("per-token quantisation: the graph is not the one quantize_dynamic writes")
    del graph.node[:]
    graph.node.extend(rewritten)
    del graph.value_info[:]  # shapes and types of the rewritten tensors changed; ONNX Runtime infers them
    return len(token_scale)
