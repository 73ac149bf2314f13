"""A 7-DoF Franka Panda reaches a random goal past one random pole (the NFMPC paper's FRANKA)."""
