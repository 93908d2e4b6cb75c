"""The régua (dunning cadence): the set-wise planner and the ``CadenceService`` that runs it."""
