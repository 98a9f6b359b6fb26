"""What-if simulation of a procedure version: a discrete-event model (SimPy) of the centre's incidents.

Pure with respect to storage: the service layer reads the history (arrivals, task durations, gateway
choices from the audit trail) or takes declared distributions, and this package runs the model and
predicts each agreed criterion with its spread over repeated runs.
"""
