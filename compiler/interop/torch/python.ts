// Names the generated Python cannot give a variable or an attribute: Python's reserved words, and
// (for the model's inputs, which become argument names) the names its own code uses.
export const keywords = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
  'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
  'while', 'with', 'yield',
]);

export const generatedNames = new Set(['self', 'targets', 'heads', 'json', 'math', 'struct', 'torch', 'nn', 'F', 'windowed', 'max_pool', 'average_pool']);
