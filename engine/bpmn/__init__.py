"""BPMN uploads: safe XML parsing, support checks, forms, and the ProcedureDefinition the engine runs."""
