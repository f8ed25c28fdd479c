from qnnc.cli import entry_point

entry_point()
