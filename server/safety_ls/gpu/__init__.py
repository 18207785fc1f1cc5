"""The GPU validation runner: compute-sanitizer runs and reports, mapped to kernel launch sites.

reports.py reads the sanitizer's text and XML reports; mapping.py places
findings at launch sites; backends.py builds the command for a local, ssh or
srun run; process.py runs it with a timeout, cancellation and bounded output;
runner.py ties them together with the result cache; cli/validate.py and
lsp/handlers/gpu.py are the command line's and the language server's front ends over the same calls.
"""
