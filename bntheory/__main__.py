from bntheory.cli import main

raise SystemExit(main())
