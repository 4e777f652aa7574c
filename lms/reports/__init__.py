"""Reports per unit, audience, course or track and period, against targets; chart; exports."""
