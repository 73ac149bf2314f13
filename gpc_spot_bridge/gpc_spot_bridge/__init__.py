"""Bridge from the 9-DoF GPC command to Spot (simulation or bosdyn-client); nodes come later."""
