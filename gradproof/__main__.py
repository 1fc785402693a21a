from gradproof.cli import script

script()
