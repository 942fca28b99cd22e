/*
 * listener - QEMU D-Bus display listener (see listener.h).
 *
 * The order matters: QEMU answers RegisterListener only after it has
 * authenticated the peer connection on the passed socket and read the
 * listener's properties over it, so the call goes out asynchronously, then
 * this side authenticates (as the client), exports the listener object and
 * starts processing messages, and only then waits for the answer.
 */
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

#define QEMU_NAME "org.qemu"
#define VM_PATH "/org/qemu/Display1/VM"
#define LISTENER_PATH "/org/qemu/Display1/Listener"

/* The part of org.qemu.Display1.Listener this listener serves (QEMU's ui/dbus-display1.xml). */
static const char listener_xml[] =
	"<node><interface name='org.qemu.Display1.Listener'>"
	"<method name='Scanout'><arg type='u' direction='in'/><arg type='u' direction='in'/>"
	"<arg type='u' direction='in'/><arg type='u' direction='in'/>"
	"<arg type='ay' direction='in'/></method>"
	"<method name='Update'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
	"<arg type='i' direction='in'/><arg type='i' direction='in'/>"
	"<arg type='u' direction='in'/><arg type='u' direction='in'/>"
	"<arg type='ay' direction='in'/></method>"
	"<method name='ScanoutDMABUF'><arg type='h' direction='in'/><arg type='u' direction='in'/>"
	"<arg type='u' direction='in'/><arg type='u' direction='in'/><arg type='u' direction='in'/>"
	"<arg type='t' direction='in'/><arg type='b' direction='in'/></method>"
	"<method name='UpdateDMABUF'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
	"<arg type='i' direction='in'/><arg type='i' direction='in'/></method>"
	"<method name='Disable'/>"
	"<method name='MouseSet'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
	"<arg type='i' direction='in'/></method>"
	"<method name='CursorDefine'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
	"<arg type='i' direction='in'/><arg type='i' direction='in'/>"
	"<arg type='ay' direction='in'/></method>"
	"<property name='Interfaces' type='as' access='read'/>"
	"</interface></node>";

struct listener {
	GDBusConnection *bus, *peer;
	GDBusNodeInfo *info;
	guint object_id;
	gulong closed_id;
	char *vm_name;
	const struct listener_ops *ops;
	void *opaque;
	/* RegisterListener's answer: */
	gboolean calling, registered;
	GError *register_error;
};

static const uint8_t *bytes_of(GVariant *ay, size_t *len)
{
	gsize n = 0;
	const void *p = g_variant_get_fixed_array(ay, &n, 1);

	*len = n;
	return p;
}

static void on_method(GDBusConnection *conn, const gchar *sender, const gchar *path,
		      const gchar *iface, const gchar *method, GVariant *params,
		      GDBusMethodInvocation *inv, gpointer data)
{
	struct listener *l = data;
	GVariant *ay = NULL;
	size_t len;

	(void)conn, (void)sender, (void)path, (void)iface;
	if (!strcmp(method, "Scanout")) {
		guint32 w, h, stride, fmt;

		g_variant_get(params, "(uuuu@ay)", &w, &h, &stride, &fmt, &ay);
		const uint8_t *p = bytes_of(ay, &len);

		l->ops->scanout(l->opaque, w, h, stride, fmt, p, len);
	} else if (!strcmp(method, "Update")) {
		gint32 x, y, w, h;
		guint32 stride, fmt;

		g_variant_get(params, "(iiiiuu@ay)", &x, &y, &w, &h, &stride, &fmt, &ay);
		const uint8_t *p = bytes_of(ay, &len);

		l->ops->update(l->opaque, x, y, w, h, stride, fmt, p, len);
	} else if (!strcmp(method, "ScanoutDMABUF") || !strcmp(method, "UpdateDMABUF")) {
		g_dbus_method_invocation_return_error_literal(inv, G_DBUS_ERROR,
			G_DBUS_ERROR_NOT_SUPPORTED, "vmbuf-capture copies pixels: use gl=off");
		return;
	} else if (!strcmp(method, "Disable")) {
		l->ops->disable(l->opaque);
	}
	/* MouseSet, CursorDefine: the pointer is not part of the captured frame. */
	if (ay)
		g_variant_unref(ay);
	g_dbus_method_invocation_return_value(inv, NULL);
}

static GVariant *on_get_property(GDBusConnection *conn, const gchar *sender, const gchar *path,
				 const gchar *iface, const gchar *prop, GError **error,
				 gpointer data)
{
	(void)conn, (void)sender, (void)path, (void)iface, (void)data;
	if (!strcmp(prop, "Interfaces"))
		return g_variant_new_strv(NULL, 0);
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", prop);
	return NULL;
}

static const GDBusInterfaceVTable listener_vtable = {
	.method_call = on_method,
	.get_property = on_get_property,
};

static void on_closed(GDBusConnection *conn, gboolean remote, GError *error, gpointer data)
{
	struct listener *l = data;

	(void)conn, (void)remote, (void)error;
	l->ops->closed(l->opaque);
}

static void on_registered(GObject *src, GAsyncResult *res, gpointer data)
{
	struct listener *l = data;
	GVariant *v = g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(src), NULL,
								       res, &l->register_error);

	if (v)
		g_variant_unref(v);
	l->registered = TRUE;
}

/* A property of QEMU's object @path, or NULL with *@err set. */
static GVariant *qemu_property(GDBusConnection *bus, const char *path, const char *iface,
			       const char *prop, GError **err)
{
	GVariant *r = g_dbus_connection_call_sync(bus, QEMU_NAME, path,
						  "org.freedesktop.DBus.Properties", "Get",
						  g_variant_new("(ss)", iface, prop),
						  G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000,
						  NULL, err);
	GVariant *v = NULL;

	if (r) {
		g_variant_get(r, "(v)", &v);
		g_variant_unref(r);
	}
	return v;
}

/* Not there yet: QEMU has not taken its name, or not exported the object. */
static gboolean not_yet(const GError *e)
{
	return g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	       g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT);
}

static GDBusConnection *bus_connect(const char *address, GError **err)
{
	if (!address)
		return g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, err);
	return g_dbus_connection_new_for_address_sync(address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, err);
}

/* Wait for QEMU's VM object, learn the VM's name and that console @path is there. */
static gboolean find_console(struct listener *l, const char *path, int timeout_ms, GError **err)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	GVariant *v;

	while (!(v = qemu_property(l->bus, VM_PATH, "org.qemu.Display1.VM", "Name", err))) {
		if (!not_yet(*err) || g_get_monotonic_time() >= deadline)
			return FALSE;
		g_clear_error(err);
		g_usleep(100 * 1000);
	}
	l->vm_name = g_variant_dup_string(v, NULL);
	g_variant_unref(v);
	v = qemu_property(l->bus, path, "org.qemu.Display1.Console", "Type", err);
	if (!v)
		return FALSE;
	g_variant_unref(v);
	return TRUE;
}

static gboolean register_listener(struct listener *l, const char *path, GError **err)
{
	GUnixFDList *fds;
	GSocket *sock;
	GSocketConnection *stream;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
			    g_strerror(errno));
		return FALSE;
	}
	fds = g_unix_fd_list_new_from_array(&sv[1], 1);	/* takes sv[1] */
	l->calling = TRUE;
	g_dbus_connection_call_with_unix_fd_list(l->bus, QEMU_NAME, path,
						 "org.qemu.Display1.Console", "RegisterListener",
						 g_variant_new("(h)", 0), NULL,
						 G_DBUS_CALL_FLAGS_NONE, 10000, fds, NULL,
						 on_registered, l);
	g_object_unref(fds);
	sock = g_socket_new_from_fd(sv[0], err);
	if (!sock) {
		close(sv[0]);
		return FALSE;
	}
	stream = g_socket_connection_factory_create_connection(sock);
	g_object_unref(sock);
	l->peer = g_dbus_connection_new_sync(G_IO_STREAM(stream), NULL,
					     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
					     G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
					     NULL, NULL, err);
	g_object_unref(stream);
	if (!l->peer)
		return FALSE;
	l->info = g_dbus_node_info_new_for_xml(listener_xml, err);
	if (!l->info)
		return FALSE;
	l->object_id = g_dbus_connection_register_object(l->peer, LISTENER_PATH,
							 l->info->interfaces[0], &listener_vtable,
							 l, NULL, err);
	if (!l->object_id)
		return FALSE;
	g_dbus_connection_set_exit_on_close(l->peer, FALSE);
	l->closed_id = g_signal_connect(l->peer, "closed", G_CALLBACK(on_closed), l);
	g_dbus_connection_start_message_processing(l->peer);
	while (!l->registered)
		g_main_context_iteration(NULL, TRUE);
	if (l->register_error) {
		g_propagate_error(err, l->register_error);
		l->register_error = NULL;
		return FALSE;
	}
	return TRUE;
}

struct listener *listener_new(const char *address, unsigned int console, int timeout_ms,
			      const struct listener_ops *ops, void *opaque, char **error)
{
	struct listener *l = g_new0(struct listener, 1);
	char path[64];
	GError *err = NULL;

	l->ops = ops;
	l->opaque = opaque;
	snprintf(path, sizeof(path), "/org/qemu/Display1/Console_%u", console);
	l->bus = bus_connect(address, &err);
	if (!l->bus)
		goto fail;
	g_dbus_connection_set_exit_on_close(l->bus, FALSE);
	if (!find_console(l, path, timeout_ms, &err) || !register_listener(l, path, &err))
		goto fail;
	return l;
fail:
	if (err)
		g_dbus_error_strip_remote_error(err);
	*error = g_strdup(err ? err->message : "unknown error");
	g_clear_error(&err);
	/* The registration may still be in flight: let it finish before freeing. */
	while (l->calling && !l->registered)
		g_main_context_iteration(NULL, TRUE);
	listener_free(l);
	return NULL;
}

const char *listener_vm_name(const struct listener *l)
{
	return l->vm_name ? l->vm_name : "";
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	if (l->peer) {
		if (l->closed_id)
			g_signal_handler_disconnect(l->peer, l->closed_id);
		if (l->object_id)
			g_dbus_connection_unregister_object(l->peer, l->object_id);
		g_dbus_connection_close_sync(l->peer, NULL, NULL);
		g_object_unref(l->peer);
	}
	if (l->info)
		g_dbus_node_info_unref(l->info);
	if (l->bus)
		g_object_unref(l->bus);
	g_clear_error(&l->register_error);
	g_free(l->vm_name);
	g_free(l);
}
