"""The hardware model: choosing a folding under the board's limits, power and energy."""
