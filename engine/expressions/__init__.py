"""Safe evaluator for expressions and scripts in untrusted BPMN models: an AST interpreter, never eval/exec."""
from .builtins import BUILTINS, METHODS
from .interpreter import CompiledExpression, compile_expression, evaluate, names_used
from .limits import ALIASES, SCRIPT_RULE, ExpressionError, ExpressionSyntaxError
from .normalize import normalize
from .scripts import CompiledScript, ScriptStep, compile_script

__all__ = [
    "ALIASES", "BUILTINS", "METHODS", "SCRIPT_RULE", "CompiledExpression", "CompiledScript", "ExpressionError",
    "ExpressionSyntaxError", "ScriptStep", "compile_expression", "compile_script", "evaluate", "names_used",
    "normalize",
]
