// A graph as stable text: one node a line, then the interface. Used by snapshot tests and
// `nabla inspect --graph`.
import type { Graph, Node } from './types.ts';
import { shapeToString } from './types.ts';

function attrText(node: Node): string {
  if (node.op === 'input' || node.op === 'param' || node.op === 'state') return ` '${node.attrs.name}'`;
  if (node.op === 'constant') return ` ${String(node.attrs.value)}`;
  const entries = Object.entries(node.attrs).filter(([, v]) => v !== undefined && v !== false);
  if (entries.length === 0) return '';
  return ` {${entries.map(([k, v]) => (v === true ? k : `${k}=${Array.isArray(v) ? shapeToString(v) : String(v)}`)).join(', ')}}`;
}

export function printGraph(graph: Graph): string {
  const lines = graph.nodes.map((node) => {
    const args = node.inputs.map((i) => `%${i}`).join(', ');
    const call = node.inputs.length ? `${node.op}(${args})` : node.op;
    const label = node.label ? `  # ${node.label}` : '';
    return `%${node.id} = ${call}${attrText(node)} : ${node.dtype}${shapeToString(node.shape)}${label}`;
  });
  for (const port of graph.outputs) lines.push(`output ${port.name} = %${port.id}`);
  for (const update of graph.updates) lines.push(`update ${update.target} ← %${update.value}`);
  return lines.join('\n');
}
