"""Stream-processing applications (Quix Streams, Faust) the e2e tests run as subprocesses."""
