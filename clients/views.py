"""Pages of the clients app."""
