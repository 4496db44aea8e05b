from hoimg.cli import main

raise SystemExit(main())
