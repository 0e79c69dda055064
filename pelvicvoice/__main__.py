from pelvicvoice.cli import main

main()
