"""Deployments: a set of BPMN, DMN and form files deployed together, and the references between them."""
