"""Point-robot navigation among randomly moving obstacles (the NFMPC paper's PNRANDDYN)."""
