from contractsync.cli import main

main()
