#!/bin/sh
# Same behaviour as the official redis image's entrypoint.
set -e

# first arg is `-f` or `--some-option`, or `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

# like upstream: a stricter umask unless one was set
if [ "$(umask)" = '0022' ]; then
	umask 0077
fi

exec "$@"
