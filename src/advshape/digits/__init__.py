"""The digits testbed: classification of scikit-learn's 8×8 digits as RL, exact Pass@k.

A small MLP policy samples labels; reward 1{a = y}; any advshape shaper trains it
(:func:`advshape.digits.train.train`). Held-out Pass@k is exact, 1 − (1 − p_y)^k, so runs
compare without evaluation noise. Needs the ``digits`` extra (torch, scikit-learn).
"""
