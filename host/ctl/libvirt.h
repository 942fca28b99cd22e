/*
 * libvirt - what vmbufctl does for libvirt: the XML a domain needs
 * (libvirt-xml) and the QEMU hook that registers a domain with vmbufd
 * while it runs (libvirt-hook, installed as hooks/qemu.d/vmbuf).
 *
 * The metadata element both use, under the domain's <metadata>:
 *
 *   <vmbuf:vm xmlns:vmbuf='urn:vmbuf:libvirt:1' name='VM' quota='32M'
 *             max-buffers='N' max-waiters='N' fence-timeout-ms='MS'>
 *     <vmbuf:pool name='POOL'/>...
 *   </vmbuf:vm>
 *
 * Every attribute is optional (name: the domain's name); each is the
 * vmbufd.conf key of the same name. docs/libvirt.md tells the rest.
 */
#ifndef VMBUF_LIBVIRT_H
#define VMBUF_LIBVIRT_H

#define VMBUF_LIBVIRT_NS "urn:vmbuf:libvirt:1"

/* vmbufctl libvirt-xml ... (@argv[0] is the command): the exit status. */
int libvirt_cmd_xml(int argc, char **argv);

/*
 * vmbufctl libvirt-hook [-c CONFIG] DOMAIN OPERATION SUBOPERATION [EXTRA],
 * the domain's XML on standard input, as libvirtd runs a QEMU hook. A
 * domain with a vmbuf element is set as a VM at "prepare begin" (and at
 * "reconnect begin" and "attach begin", which find it set) and removed at
 * "release end"; anything else exits 0 having done nothing. @socket_dir is
 * used when CONFIG does not exist. Exit status: 0, or 1 (libvirt then
 * refuses to start the domain, with our message).
 */
int libvirt_cmd_hook(const char *socket_dir, int argc, char **argv);

#endif
