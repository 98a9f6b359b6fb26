"""Forms drawn in Camunda Modeler's form editor (form-js `.form` JSON): reading and validating them."""
