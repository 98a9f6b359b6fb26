"""DMN decisions: decision tables read from uploaded `.dmn` files and evaluated by our own FEEL subset."""
