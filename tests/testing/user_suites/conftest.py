"""pytest configuration of the toolkit's pytester suite: loads pytester.

This directory is not a package, so trial never imports it; the trial test
L{tests.testing.test_pytest_plugin} runs pytest on it.
"""

pytest_plugins = ["pytester"]
