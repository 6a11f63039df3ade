"""One blueprint per tag of the v1 contract, plus static web apps and portal pages."""
